/**
 * ANSI colour codes of a service's log, as HTML: the 8/16 colours and bold, everything else dropped.
 */
const SGR = /\x1b\[([0-9;]*)m/g;
const OTHER = /\x1b\[[0-9;?]*[A-Za-z]/g;
const NAMES = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

export function ansiToHtml(text: string): string {
  let html = '';
  let open = false;
  let last = 0;
  let colour = '';
  let bold = false;
  const flush = (upTo: number) => {
    html += escape(text.slice(last, upTo).replace(OTHER, ''));
  };
  for (const match of text.matchAll(SGR)) {
    flush(match.index!);
    last = match.index! + match[0].length;
    for (const code of (match[1] || '0').split(';').map(Number)) {
      if (code === 0) {
        colour = '';
        bold = false;
      } else if (code === 1) {
        bold = true;
      } else if (code === 22) {
        bold = false;
      } else if (code === 39) {
        colour = '';
      } else if (code >= 30 && code <= 37) {
        colour = NAMES[code - 30];
      } else if (code >= 90 && code <= 97) {
        colour = NAMES[code - 90];
      }
    }
    if (open) {
      html += '</span>';
      open = false;
    }
    if (colour || bold) {
      const classes = [colour && `aci-ansi-${colour}`, bold && 'aci-ansi-bold'];
      html += `<span class="${classes.filter(Boolean).join(' ')}">`;
      open = true;
    }
  }
  flush(text.length);
  return html + (open ? '</span>' : '');
}
