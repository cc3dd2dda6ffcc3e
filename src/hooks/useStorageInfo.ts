import { useCallback, useEffect, useState } from 'react';
import { clearModelCache, deleteCachedModel, listCachedModels, storageEstimate, type CachedModel, type StorageInfo } from '../models/cache';
import { errorText } from '../lib/errors';

/** Cached models and the storage estimate; refreshed on demand and after every change. */
export function useStorageInfo() {
  const [models, setModels] = useState<CachedModel[] | null>(null);
  const [storage, setStorage] = useState<StorageInfo | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const [m, s] = await Promise.all([listCachedModels(), storageEstimate()]);
      setModels(m);
      setStorage(s);
      setError(null);
    } catch (e) {
      setError(`Could not read the browser cache: ${errorText(e)}`);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const remove = useCallback(
    async (m: CachedModel) => {
      await deleteCachedModel(m);
      await refresh();
    },
    [refresh],
  );
  const removeAll = useCallback(async () => {
    await clearModelCache();
    await refresh();
  }, [refresh]);

  return { models, storage, error, refresh, remove, removeAll };
}
