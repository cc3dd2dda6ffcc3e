import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { setupServiceWorker } from './pwa/register';
import './ui/app.css';

// Production builds: the service worker gives offline use and, where the host sends no COOP/COEP
// headers, cross-origin isolation (it may reload the page once for that, so it runs first).
const sw = import.meta.env.PROD ? await setupServiceWorker('./sw.js') : 'unsupported';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
if (sw !== 'reloading') {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
