// Scan a document's QR code with the camera where the browser offers BarcodeDetector; otherwise the
// form still works by pasting the code's text or typing the number (progressive enhancement).
(function () {
  "use strict";
  var start = document.getElementById("scan-start");
  var video = document.getElementById("scan-video");
  var field = document.getElementById("verify-q");
  var form = document.getElementById("verify-form");
  var note = document.getElementById("scan-unsupported");
  if (!start || !video || !field || !form) return;
  var supported = "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!supported) {
    if (note) note.hidden = false;
    return;
  }
  start.hidden = false;
  start.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stop();
            field.value = codes[0].rawValue;
            form.submit();
          } else {
            window.requestAnimationFrame(tick);
          }
        }).catch(function () { window.requestAnimationFrame(tick); });
      };
      tick();
    }).catch(function () { if (note) note.hidden = false; });
  });
})();
