// The doctor's command ids, known at activation without loading the commands
// themselves (doctorCommands.ts is emitted as dist/doctorCommands.js and loaded
// on first use, see esbuild.js). doctorCommands() must return exactly these.
export const DOCTOR_COMMAND_IDS = [
  'matrixDevtools.diagnoseAppservice',
  'matrixDevtools.diagnoseAllAppservices',
  'matrixDevtools.whichAppserviceOwns',
] as const;
export type DoctorCommandId = (typeof DOCTOR_COMMAND_IDS)[number];
