// The app's pages, in sidebar order. A new page is one component here and nothing else: it gets
// its nav entry, its address (#/<id>) and focus on arrival from the shell.
import type { Component } from 'svelte';
import ChatPage from '../chat/ChatPage.svelte';
import ComputerPage from '../pages/ComputerPage.svelte';
import LibraryPage from '../pages/LibraryPage.svelte';
import RunsPage from '../pages/RunsPage.svelte';
import CalibratePage from '../wizards/calibrate/CalibratePage.svelte';
import ConvertPage from '../wizards/convert/ConvertPage.svelte';
import EvaluatePage from '../wizards/evaluate/EvaluatePage.svelte';
import FinetunePage from '../wizards/finetune/FinetunePage.svelte';

export interface PageDef {
  /** The address: #/<id>, or #/<id>/<param>. */
  id: string;
  label: string;
  /** Reads the rest of the address (e.g. a run id) from the router in context when it needs it. */
  component: Component;
}

export const pages: PageDef[] = [
  { id: 'library', label: 'Library', component: LibraryPage },
  { id: 'convert', label: 'Convert', component: ConvertPage },
  { id: 'finetune', label: 'Fine-tune', component: FinetunePage },
  { id: 'calibrate', label: 'Calibrate', component: CalibratePage },
  { id: 'evaluate', label: 'Evaluate', component: EvaluatePage },
  { id: 'runs', label: 'Runs', component: RunsPage },
  { id: 'chat', label: 'Chat', component: ChatPage },
  { id: 'computer', label: 'This computer', component: ComputerPage },
];
