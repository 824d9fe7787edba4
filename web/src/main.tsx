import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { applyTheme, readTheme } from './app/theme';
import { takeTokenFromFragment } from './app/session';
import './styles.css';

// Before anything renders: a portal token in the URL fragment moves to session storage and leaves the address bar.
takeTokenFromFragment();
applyTheme(readTheme());
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
