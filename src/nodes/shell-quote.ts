// POSIX single-quote quoting: the remote login shell and `sh -c` (dash on Debian) both accept it,
// unlike bash's $'...' form.
export function shQuote(arg: string): string {
  if (/^[A-Za-z0-9_\/.:=@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
