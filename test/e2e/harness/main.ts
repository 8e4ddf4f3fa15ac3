// A page that puts the wizard pieces (WizardFrame, PresetPicker) to work against the real API,
// as a wizard would, so the browser tests can drive them before any wizard exists.
import { mount } from 'svelte';
import { connectApi } from '../../../renderer/src/api/client';
import '../../../renderer/src/app.css';
import Harness from './Harness.svelte';

mount(Harness, { target: document.getElementById('app')!, props: { api: connectApi() } });
