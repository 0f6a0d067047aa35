/** Terminal styling that disappears when output is not a terminal or NO_COLOR is set. */
export interface Style {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const colorStyle: Style = {
  green: wrap(32, 39),
  red: wrap(31, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
  bold: wrap(1, 22),
  dim: wrap(2, 22),
};

const identity = (text: string) => text;
export const plainStyle: Style = {
  green: identity,
  red: identity,
  yellow: identity,
  cyan: identity,
  bold: identity,
  dim: identity,
};
