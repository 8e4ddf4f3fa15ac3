// What every component can reach without passing it down: the API, the live list of runs and the
// current address.
import { createContext } from 'svelte';
import type { FasApi } from '../../../electron/api/contract';
import type { JobsStore } from './jobs.svelte';
import type { HashRouter } from './router.svelte';

export const [getApi, setApi] = createContext<FasApi>();
export const [getJobs, setJobs] = createContext<JobsStore>();
export const [getRouter, setRouter] = createContext<HashRouter>();
