/** The panes taking part in a comparison: the in-browser model, and the hosted model when enabled. */
import { useMemo } from 'react';
import { requestBytes } from '../compare/strip';
import { HostedError } from '../engines/hosted/errors';
import type { HostedEngine } from '../engines/hosted/HostedEngine';
import { buildChatRequest } from '../engines/hosted/request';
import { LocalEngine, LocalEngineError } from '../engines/local/LocalEngine';
import type { PaneSpec } from './useComparison';
import { errorText } from '../lib/errors';

function message(e: unknown): string {
  if (e instanceof LocalEngineError) return e.error.message;
  if (e instanceof HostedError) return e.message;
  return errorText(e);
}

export function usePanes(local: LocalEngine | null, hosted: HostedEngine | null, hostedEnabled: boolean): PaneSpec[] {
  return useMemo(() => {
    const info = local?.info;
    const cpuThreads = info && info.device === 'wasm' ? info.threads : 0;
    const panes: PaneSpec[] = [{ id: 'local', label: local?.label ?? 'In-browser model', engine: local, bytesFor: () => 0, describeError: message, cpuThreads }];
    if (hostedEnabled) {
      panes.push({
        id: 'hosted',
        label: hosted?.label ?? 'Hosted model',
        engine: hosted,
        bytesFor: (messages, params) => (hosted ? requestBytes(buildChatRequest(hosted.modelName, messages, params, hosted.preset)) : 0),
        describeError: message,
        cpuThreads: 0,
      });
    }
    return panes;
  }, [local, hosted, hostedEnabled]);
}
