// Follows the device live: the server sends the status section's HTML as
// Server-Sent Events whenever the agent's status changes.
"use strict";
(function () {
  var box = document.getElementById("device");
  if (!box || !window.EventSource) {
    return;
  }
  var events = new EventSource(box.getAttribute("data-events"));
  events.addEventListener("device", function (e) {
    // The focused control keeps its focus if it is still there.
    var focused = document.activeElement && document.activeElement.id;
    box.innerHTML = e.data;
    if (focused) {
      var again = document.getElementById(focused);
      if (again) {
        again.focus();
      }
    }
  });
})();
