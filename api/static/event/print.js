// The 打印 button of the event page (inline handlers are barred by the page's CSP).
"use strict";
document.getElementById("print-button").addEventListener("click", () => window.print());
