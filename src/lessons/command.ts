// Command lines as a learner would type them: plain words stay plain, anything else is quoted by
// shell-quote (POSIX single/double quotes, so `sh -c` on any node reads them back unchanged).
import { quote } from 'shell-quote';

// Characters no POSIX shell treats specially in an unquoted word (shell-quote would escape "=" and ",").
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellWord(arg: string): string {
  return PLAIN.test(arg) && !arg.startsWith('~') ? arg : quote([arg]);
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}

/** Keeps the head and the tail of long output so a transcript stays readable and says what it cut. */
export function truncate(text: string, max = 4000): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.75);
  const tail = max - head;
  return `${text.slice(0, head)}\n… [${text.length - max} characters cut] …\n${text.slice(text.length - tail)}`;
}
