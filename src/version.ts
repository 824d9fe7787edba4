// Read once from package.json, which ships beside dist/.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const version: string = require('../package.json').version;
