import { ansiToHtml } from '../ansi';

describe('ansiToHtml', () => {
  it('draws a colour as a class and closes it on reset', () => {
    expect(ansiToHtml('\x1b[32mweights loaded\x1b[0m done')).toBe(
      '<span class="aci-ansi-green">weights loaded</span> done'
    );
  });

  it('combines bold with a bright colour', () => {
    expect(ansiToHtml('\x1b[1;91mERROR\x1b[0m')).toBe('<span class="aci-ansi-red aci-ansi-bold">ERROR</span>');
  });

  it('escapes HTML and drops other escape sequences', () => {
    expect(ansiToHtml('<b>&</b>\x1b[2K\x1b[?25l')).toBe('&lt;b&gt;&amp;&lt;/b&gt;');
  });

  it('closes a colour left open at the end', () => {
    expect(ansiToHtml('\x1b[33mwarn')).toBe('<span class="aci-ansi-yellow">warn</span>');
  });
});
