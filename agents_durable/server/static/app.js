// The dashboard's only script (the Content-Security-Policy allows no inline script):
// confirmation for destructive buttons, and the instance view refreshed while it runs.
"use strict";
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
const FINISHED = ["complete", "errored", "terminated"];
function follow(element) {
  let status = element.dataset.status;
  const tick = async () => {
    try {
      const response = await fetch(element.dataset.live, {credentials: "same-origin"});
      if (response.ok) {
        element.innerHTML = await response.text();  // server-rendered, escaped HTML
        const now = response.headers.get("X-Instance-Status");
        if (now && now !== status) {
          const was = status;
          status = now;
          element.dataset.status = now;
          // the buttons depend on the status (pause or resume, the event form): reload
          if (FINISHED.includes(now) || now === "paused" || was === "paused") {
            window.location.reload();
            return;
          }
        }
      }
    } catch (error) { /* a dropped request: try again on the next tick */ }
    if (!FINISHED.includes(status)) setTimeout(tick, 1000);
  };
  if (!FINISHED.includes(status)) setTimeout(tick, 1000);
}
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live && live.dataset.live) follow(live);
});
