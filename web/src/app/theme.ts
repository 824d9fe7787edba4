/** Light theming for an embedded console, from the query string (?accent=%23ff6600&logo=https://…&dark=1), kept for the session. */
export interface Theme {
  accent?: string;
  logo?: string;
  dark?: boolean;
}

const KEY = 'herald.theme';

export function readTheme(): Theme {
  const params = new URLSearchParams(window.location.search);
  const stored: Theme = JSON.parse(sessionStorage.getItem(KEY) ?? '{}');
  const theme: Theme = { ...stored };
  const accent = params.get('accent');
  if (accent && /^#?[0-9a-fA-F]{3,8}$/.test(accent)) theme.accent = accent.startsWith('#') ? accent : `#${accent}`;
  const logo = params.get('logo');
  if (logo && /^https?:\/\//.test(logo)) theme.logo = logo;
  if (params.has('dark')) theme.dark = params.get('dark') !== '0' && params.get('dark') !== 'false';
  sessionStorage.setItem(KEY, JSON.stringify(theme));
  return theme;
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme.accent) root.style.setProperty('--accent', theme.accent);
  root.dataset.theme = theme.dark ? 'dark' : 'light';
}
