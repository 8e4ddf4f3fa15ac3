import { mount } from 'svelte';
import App from './App.svelte';
import { connectApi } from './api/client';
import './app.css';

mount(App, { target: document.getElementById('app')!, props: { api: connectApi() } });
