/**
 * Panels the first paint does not need, loaded when first shown (React.lazy): the tabs other than
 * Model and Generation, the Suites tab's panels (report, matrix, charts), the agreement view
 * (only with a hosted pane) and the share banner, which only a shared link or file opens. Same names and props as the modules they wrap, so App
 * imports them from here. Measured: the page's initial JavaScript (bench `initial_js_gzip_kb`).
 * Generation stays eager: tests and people open it and read it at once.
 */
import { lazy, Suspense, type ComponentType, type ReactNode } from 'react';

const LOADING = <p className="muted small">Loading…</p>;
/** All of them in one chunk: separate chunks cost ~6 kB more gzip in all (measured), for ~15 kB. */
const panels = () => import('./deferred-panels');

/** A component loaded on first render; `fallback` (or a function of the props) shows meanwhile. */
export function deferred<P extends object>(load: () => Promise<ComponentType<P>>, fallback: ReactNode | ((props: P) => ReactNode) = LOADING): ComponentType<P> {
  const Lazy = lazy(async () => ({ default: await load() }));
  return function Deferred(props: P) {
    return (
      <Suspense fallback={typeof fallback === 'function' ? fallback(props) : fallback}>
        <Lazy {...props} />
      </Suspense>
    );
  };
}

export const HostedPanel = deferred(() => panels().then((m) => m.HostedPanel));
export const PriceTable = deferred(() => panels().then((m) => m.PriceTable));
export const DevicePanel = deferred(() => panels().then((m) => m.DevicePanel));
export const CachePanel = deferred(() => panels().then((m) => m.CachePanel));
export const SharePanel = deferred(() => panels().then((m) => m.SharePanel));
export const SuitePanel = deferred(() => panels().then((m) => m.SuitePanel));
export const SuiteView = deferred(() => panels().then((m) => m.SuiteView), null);
/** Shown only beside a hosted pane; it brings the session tally and its decision. */
export const AgreementView = deferred(() => panels().then((m) => m.AgreementView), null);

const Banner = deferred(() => panels().then((m) => m.ShareBanner), null);
type BannerProps = Parameters<typeof import('./ShareBanner').ShareBanner>[0];
/** Nothing to show (and nothing loaded) until a link or file arrives. */
export function ShareBanner(props: BannerProps) {
  return props.incoming.status === 'none' ? null : <Banner {...props} />;
}
