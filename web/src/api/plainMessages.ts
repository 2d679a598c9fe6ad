/**
 * The API's field messages in plain words. Validation messages come from the library that
 * checks request bodies ("Too small: expected number to be >=0"), which reads as a stack
 * trace to an operator; each known form is said again here, anything else passes unchanged.
 */
const PLAIN: [RegExp, (match: RegExpExecArray) => string][] = [
  [/^Too small: expected number to be >=?(-?[\d.]+)$/, (m) => `Must be at least ${m[1]}`],
  [/^Too big: expected number to be <=?(-?[\d.]+)$/, (m) => `Must be at most ${m[1]}`],
  [/^Too small: expected string to have >=1 characters?$/, () => 'Cannot be empty'],
  [
    /^Too small: expected string to have >=(\d+) characters$/,
    (m) => `Needs at least ${m[1]} characters`,
  ],
  [/^Too big: expected string to have <=(\d+) characters$/, (m) => `At most ${m[1]} characters`],
  [/^Too big: expected array to have <=(\d+) items$/, (m) => `At most ${m[1]} entries`],
  [/^Too small: expected array to have >=(\d+) items$/, (m) => `At least ${m[1]} entries`],
  [/^Invalid input: expected int, received number$/, () => 'Enter a whole number'],
  [/^Invalid input: expected (number|int), received \w+$/, () => 'Enter a number'],
  [/^Invalid input: expected boolean, received \w+$/, () => 'Choose yes or no'],
  [/^Invalid input: expected \w+, received undefined$/, () => 'Required'],
  [/^Invalid input: expected string, received \w+$/, () => 'Enter text'],
  [/^Invalid option: expected one of (.+)$/, (m) => `Choose one of ${m[1]!.replaceAll('|', ', ')}`],
  [/^Unrecognized keys?: (.+)$/, (m) => `Not a field this form knows: ${m[1]}`],
  [/^Invalid string: must match pattern .+$/, () => 'Not in the expected format'],
  [/^Invalid (URL|url)$/, () => 'Enter a full address, like https://buyer.example/leads'],
];

export function plainMessage(message: string): string {
  for (const [pattern, say] of PLAIN) {
    const match = pattern.exec(message);
    if (match) return say(match);
  }
  return message;
}
