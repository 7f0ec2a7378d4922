// POSIX shell quoting, the project's one way: command lines that run through `sh -c` or a remote login
// shell (dash or bash alike), and the values the render helper `sh` writes into generated scripts. Plain
// words stay plain so transcripts and scripts read as a learner would type them; anything else is
// quoted by shell-quote.
import { quote } from 'shell-quote';

// Characters no POSIX shell treats specially in an unquoted word (shell-quote would escape "=" and ",").
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shQuote(arg: string): string {
  return PLAIN.test(arg) && !arg.startsWith('~') ? arg : quote([arg]);
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ');
}
