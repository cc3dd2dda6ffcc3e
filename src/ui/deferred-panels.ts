/** The panels ui/deferred.tsx loads on first use, as one chunk (one request, one gzip stream). */
export { AgreementView } from './AgreementView';
export { CachePanel } from './CachePanel';
export { DevicePanel } from './DevicePanel';
export { HostedPanel } from './HostedPanel';
export { PriceTable } from './PriceTable';
export { ShareBanner } from './ShareBanner';
export { SharePanel } from './SharePanel';
export { SuitePanel } from './eval/SuitePanel';
export { SuiteView } from './eval/SuiteView';
