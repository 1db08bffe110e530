// The talk page (/talk): everything of the listen page plus push-to-talk.
import { setupListenPanel } from './listen_panel.js';
import { savedName, setupTalkPanel } from './talk_panel.js';
import { $, showConnection, startPage } from './ui.js';

const room = startPage({ name: savedName() || undefined });
showConnection(room, $('state'), $('listeners'));
setupListenPanel(room);
setupTalkPanel(room);
