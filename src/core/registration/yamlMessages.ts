import type { YAMLError } from 'yaml';
import { t } from '../l10n';

// One sentence per parser error code; the parser's own text is not used
// because it can quote the file (tokens included) and is not translatable.
export function yamlMessage(e: YAMLError): string {
  switch (e.code) {
    case 'DUPLICATE_KEY':
      return t('This key appears twice in the same mapping: keep only one, because homeservers differ on which one wins.');
    case 'MULTIPLE_DOCS':
      return t('The file holds more than one YAML document (a second ---): a registration is a single document, so remove the extra one.');
    case 'TAG_RESOLVE_FAILED':
      return t(
        'This YAML tag is unknown, and homeservers that load registrations with a safe YAML loader (Synapse) refuse it: remove the tag.',
      );
    case 'BAD_DQ_ESCAPE':
      return t(
        'This backslash escape is not valid in a double-quoted string: double the backslash ("@\\\\#...") or use single quotes (\'@\\#...\').',
      );
    case 'BAD_SCALAR_START':
      return t('A plain value cannot start with this character: put the value in quotes.');
    case 'TAB_AS_INDENT':
      return t('YAML does not allow tabs for indentation: indent with spaces.');
    case 'MISSING_CHAR':
      return t('A closing bracket or another required character is missing here: add it.');
    case 'BAD_INDENT':
      return t('The indentation is wrong here, or a bracket is not closed: line the key up with its neighbours.');
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return t(
        'A key: value pair is broken here (a missing colon or space after it, or a nested mapping on the same line): fix the YAML syntax.',
      );
    case 'UNEXPECTED_TOKEN':
      return t('Unexpected text here (often a stray character or a missing colon): fix the YAML syntax.');
    default:
      return t('The YAML is not valid here ({0}): fix the syntax.', e.code);
  }
}
