// Transcript trimming (command lines themselves are quoted by util/shell.ts).
/** Keeps the head and the tail of long output so a transcript stays readable and says what it cut. */
export function truncate(text: string, max = 4000): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.75);
  const tail = max - head;
  return `${text.slice(0, head)}\n… [${text.length - max} characters cut] …\n${text.slice(text.length - tail)}`;
}
