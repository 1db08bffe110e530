// The listen page (/).
import { setupListenPanel } from './listen_panel.js';
import { $, showConnection, startPage } from './ui.js';

const room = startPage();
showConnection(room, $('state'), $('listeners'));
setupListenPanel(room);
