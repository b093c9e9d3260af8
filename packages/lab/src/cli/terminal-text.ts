/**
 * What the CLI prints comes partly from AWS: alarm reasons (anyone allowed SetAlarmState writes
 * them), decision reasons that quote them, CloudFormation and CodeDeploy messages, SDK errors. A
 * terminal obeys escape sequences in that text (retitle the window, clear the screen, rewrite
 * what the operator reads, or reorder it with bidi overrides), so every line the CLI prints goes
 * through `terminalSafe` first.
 */

/**
 * C0 controls (U+0000-U+001F, ESC among them), DEL, C1 controls (U+0080-U+009F, CSI and OSC
 * among them), and the Unicode bidirectional formatting characters (LRE, RLE, PDF, LRO, RLO,
 * LRI, RLI, FSI, PDI, LRM, RLM, ALM).
 * https://www.unicode.org/reports/tr9/#Directional_Formatting_Characters
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/**
 * One line of output, safe to print: tabs and line breaks inside it become spaces (the CLI
 * breaks its own lines), every other control or bidi formatting character is removed. Printable
 * text, in any script, is kept as it is.
 */
export function terminalSafe(line: string): string {
  return line.replace(/[\t\n\r\v\f]/g, ' ').replace(UNSAFE, '');
}

/** Text the CLI laid out in lines itself: each line made safe, the CLI's own line breaks kept. */
export function terminalLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}
