import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { storedTheme } from './theme.ts';
import './styles.css';

// The remembered theme before the first paint (no flash of the other one).
const theme = storedTheme();
if (theme !== null) document.documentElement.setAttribute('data-theme', theme);

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
