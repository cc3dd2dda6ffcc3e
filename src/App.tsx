/** Composes the hooks and panels; holds no logic of its own beyond wiring. */
import { useCallback, useMemo } from 'react';
import type { Exchange } from './compare/strip';
import { useAgreement } from './hooks/useAgreement';
import { BANNER_ID, TABS, useLayout } from './hooks/useLayout';
import { useShare } from './hooks/useShare';
import { useShareFlow } from './hooks/useShareFlow';
import { useHostedEndpoint } from './hooks/useHostedEndpoint';
import { usePanes } from './hooks/usePanes';
import { usePrices } from './hooks/usePrices';
import { usePromptDraftStore } from './hooks/usePromptDraft';
import { useEmbeddedCards } from './hooks/useEmbeddedCards';
import { useLocalModel } from './hooks/useLocalModel';
import { useOffline } from './hooks/useOffline';
import { useSettings } from './hooks/useSettings';
import { useStorageInfo } from './hooks/useStorageInfo';
import { useSuiteRunner } from './hooks/useSuiteRunner';
import { appBase } from './hooks/urls';
import { catalogFor } from './models/catalog';
import { recommend } from './models/device';
import { embeddedCatalog } from './models/embedded';
import { Conversation } from './ui/Conversation';
import { CachePanel, DevicePanel, HostedPanel, PriceTable, ShareBanner, SharePanel, SuitePanel, SuiteView } from './ui/deferred';
import { GenerationSettings } from './ui/GenerationSettings';
import { LoadStatus } from './ui/LoadStatus';
import { ModelCardView } from './ui/ModelCardView';
import { ModelPanel } from './ui/ModelPanel';
import { OfflineBadge } from './ui/OfflineBadge';
import { TabPanel, Tabs } from './ui/Tabs';

export function App() {
  const { settings, update } = useSettings();
  const local = useLocalModel(settings.selection);
  const hosted = useHostedEndpoint();
  const { prices, setPrices } = usePrices();
  const panes = usePanes(local.engine, hosted.engine, hosted.settings.enabled === true);
  const storage = useStorageInfo();
  const offline = useOffline();
  // The prompt box's text lives in a store the Composer alone subscribes to: Send empties it without
  // re-rendering App (state/prompt-draft.ts, issue 14).
  const draft = usePromptDraftStore();
  const cards = useEmbeddedCards();
  const catalog = useMemo(() => catalogFor(embeddedCatalog(cards)), [cards]);
  const sel = settings.selection;
  const entry = catalog.find((c) => c.source.type === sel.source.type && c.source.modelId === sel.source.modelId) ?? null;
  const ready = local.state.status === 'ready';
  const layout = useLayout(local.state.status);
  const tab = layout.tab;
  const suite = useSuiteRunner({
    local: {
      engine: ready ? local.engine : null,
      info: local.state.status === 'ready' ? local.state.info : null,
      load: local.state.status === 'ready' ? local.state.load : null,
    },
    hosted: { engine: hosted.engine, enabled: hosted.settings.enabled === true, baseUrl: hosted.settings.endpoint.baseUrl },
    params: settings.generation,
    prices,
  });
  const agreement = useAgreement(hosted.settings.enabled === true ? hosted.engine : null, settings.generation, prices);
  const loadMs = local.state.status === 'ready' ? local.state.load.totalMs : null;
  const share = useShare();
  const flow = useShareFlow({
    settings,
    update,
    hosted,
    draft,
    env: local.env,
    loaded: local.state.status === 'ready' ? local.state : null,
    loadModel: (s) => void local.load(s, null),
    makeLink: share.makeLink,
    suite: { record: suite.runs.record, bundled: suite.suites.bundled, open: suite.openShared },
    session: { entries: agreement.session, loadMs },
  });
  const onExchange = useCallback(
    (e: Exchange) => {
      flow.onExchange(e);
      agreement.add(e);
    },
    [flow.onExchange, agreement.add],
  );

  const suiteView = <SuiteView record={suite.shown} progress={suite.runs.progress} error={suite.runs.error} onClose={suite.closeShown} />;
  return (
    <div className={`app${layout.phone ? ' phone' : ''}${layout.sheetOpen ? ' sheet-open' : ''}${share.incoming.status !== 'none' ? ' with-banner' : ''}`}>
      <header>
        <h1>SLM Playground</h1>
        <span className="muted tagline">a small language model in your browser, measured honestly</span>
        <span className={`badge ${local.env?.crossOriginIsolated ? 'ok' : 'warn'}`} data-testid="isolation-badge">
          {local.env ? (local.env.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated (1 thread)') : 'probing…'}
        </span>
        <OfflineBadge state={offline} />
        {layout.phone && (
          <button
            type="button"
            ref={layout.menuRef}
            className="menu"
            aria-expanded={layout.sheetOpen}
            aria-controls="settings-sheet"
            onClick={layout.sheetOpen ? layout.closeSheet : layout.openSheet}
            data-testid="open-settings"
          >
            Settings
          </button>
        )}
      </header>
      <div className="banner-slot" id={BANNER_ID} hidden={layout.sheetOpen}>
        <ShareBanner
          incoming={share.incoming}
          mine={flow.exchange}
          mineSuite={suite.runs.record}
          applied={flow.applied}
          canRestore={flow.canRestore}
          onApply={flow.apply}
          onRun={(s) => {
            flow.run(s);
            layout.show(s.suite ? 'suites' : 'model');
          }}
          onRestore={flow.restore}
          onDismiss={share.dismiss}
        />
      </div>
      <main>
        <aside
          id="settings-sheet"
          ref={layout.sheetRef}
          hidden={layout.phone && !layout.sheetOpen}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && layout.sheetOpen) layout.closeSheet();
          }}
        >
          {layout.phone && (
            <div className="sheet-head">
              <h2>Settings</h2>
              <button type="button" onClick={layout.closeSheet} data-testid="close-settings">
                Back to chat
              </button>
            </div>
          )}
          <Tabs id="settings" label="Settings" tabs={TABS} selected={tab} onSelect={layout.setTab} testId={(t) => `tab-${t}`} />
          <TabPanel id="settings" tab={tab}>
          {tab === 'model' && (
            <>
              <ModelPanel
                catalog={catalog}
                selection={sel}
                env={local.env}
                busy={local.state.status === 'loading'}
                loaded={ready}
                onLoad={(s, bytes) => {
                  update({ selection: s });
                  void local.load(s, bytes);
                }}
                onUnload={local.unload}
                dtypeSpeeds={local.dtypeSpeeds}
              />
              <LoadStatus
                state={local.state}
                prepared={local.runtimePrepared}
                compact={layout.phone}
                onRetry={(change) => {
                  if (change.device) update({ selection: { ...sel, device: change.device } });
                  local.retry(change);
                }}
              />
              {sel.source.type === 'bundled' && (
                <ModelCardView
                  modelId={sel.source.modelId}
                  appBase={appBase()}
                  onExample={(prompt) => {
                    draft.set(prompt);
                    layout.toChat();
                  }}
                  collapsed={layout.phone && ready}
                />
              )}
            </>
          )}
          {tab === 'hosted' && (
            <>
              <HostedPanel
                settings={hosted.settings}
                error={hosted.error}
                models={hosted.models}
                keyOrigin={hosted.keyOrigin}
                hasKey={hosted.hasKey}
                remembered={hosted.remembered}
                onUpdate={hosted.update}
                onKey={hosted.setKey}
                onListModels={() => void hosted.listModels()}
              />
              <PriceTable prices={prices} onChange={setPrices} />
            </>
          )}
          {tab === 'settings' && (
            <GenerationSettings
              params={settings.generation}
              systemPrompt={settings.systemPrompt}
              onParams={(generation) => update({ generation })}
              onSystemPrompt={(systemPrompt) => update({ systemPrompt })}
            />
          )}
          {tab === 'suites' && (
            <SuitePanel
              bundled={suite.suites.bundled}
              imported={suite.suites.imported}
              suitesError={suite.suites.error}
              engines={suite.choices}
              progress={suite.runs.progress}
              runs={suite.runs.runs}
              openRunId={suite.runs.record?.id ?? null}
              storeError={suite.runs.storeError}
              onImportSuite={suite.suites.importFile}
              onRemoveSuite={(id) => void suite.suites.removeImported(id)}
              onRun={(ref, ids, judge, conc, mode) => void suite.run(ref, ids, judge, conc, mode)}
              onStop={suite.runs.stop}
              onOpen={suite.open}
              onResume={(id, conc) => void suite.resume(id, conc)}
              onCompare={(id) => void suite.compare(id)}
              onDelete={(id) => void suite.runs.remove(id)}
              onImportResults={suite.runs.importResults}
              suiteKey={suite.selected}
              onSuiteKey={suite.setSelected}
            />
          )}
          {tab === 'device' && (
            <DevicePanel env={local.env} storage={storage.storage} recommendation={entry && local.env ? recommend(entry, local.env) : null} modelLabel={entry?.label ?? null} />
          )}
          {tab === 'cache' && (
            <CachePanel
              models={storage.models}
              storage={storage.storage}
              error={storage.error}
              onRefresh={() => void storage.refresh()}
              onDelete={storage.remove}
              onDeleteAll={storage.removeAll}
            />
          )}
          {tab === 'share' && (
            <SharePanel
              hasResults={flow.exchange !== null}
              onMake={flow.make}
              sessionPrompts={agreement.session.length}
              onOpenFile={(f) => void share.openFile(f)}
              suiteRun={suite.runs.record ? { name: suite.runs.record.suite.name, cases: suite.runs.record.suite.cases.length, cells: suite.runs.record.cells.length } : null}
            />
          )}
            {tab === 'suites' && layout.phone && suiteView}
          </TabPanel>
        </aside>
        {tab === 'suites' && !layout.phone && suiteView}
        {/* Kept mounted while the Suites tab (or the phone's settings sheet) shows, so the conversation survives. */}
        <div className="conversation-slot" hidden={(tab === 'suites' && !layout.phone) || layout.sheetOpen}>
        <Conversation
          panes={panes}
          generation={settings.generation}
          systemPrompt={settings.systemPrompt}
          prices={prices}
          draft={draft}
          localReady={ready}
          onExchange={onExchange}
          agreement={agreement}
          loadMs={loadMs}
        />
        </div>
      </main>
    </div>
  );
}
