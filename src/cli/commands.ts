// Every CLI verb and the function behind it (doctor and match: doctorCommands.ts).
import { accountCommands } from './accountCommands';
import { appserviceCommands } from './appserviceCommands';
import type { Command } from './context';

export const commands: Record<string, Command> = { ...accountCommands, ...appserviceCommands };
