// Small helpers of the sxpt pages. Every page works without this script, which adds the
// idle-timeout countdown, the upload progress bar, "select all" in the review queue,
// copying a new API key, and hiding the account fields that the chosen level does not use.
// Texts come from data-* attributes that the server writes in the page's language.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // --- idle timeout -------------------------------------------------------------------
  function startIdleTimer() {
    var body = document.body;
    var timeout = parseInt(body.getAttribute("data-idle-timeout") || "", 10);
    if (!timeout) {
      return;
    }
    var warning = parseInt(body.getAttribute("data-idle-warning") || "300", 10);
    var statusUrl = body.getAttribute("data-status-url");
    var keepaliveUrl = body.getAttribute("data-keepalive-url");
    var loginUrl = body.getAttribute("data-login-url");
    var currentPage = body.getAttribute("data-current") || "/";
    var display = document.getElementById("idle-remaining");
    var banner = document.getElementById("idle-warning");
    var bannerTime = document.getElementById("idle-warning-time");
    var stay = document.getElementById("idle-stay");
    var deadline = Date.now() + timeout * 1000;
    var checking = false;
    var checkedNearEnd = false;

    function format(seconds) {
      var minutes = Math.floor(seconds / 60);
      var rest = seconds % 60;
      return minutes + ":" + (rest < 10 ? "0" : "") + rest;
    }

    function leave() {
      window.location.assign(loginUrl + "?reason=expired&next=" + encodeURIComponent(currentPage));
    }

    // Another tab may have kept the session alive: ask the server before warning or leaving.
    function synchronise(then) {
      if (checking) {
        return;
      }
      checking = true;
      var request = new XMLHttpRequest();
      request.open("GET", statusUrl);
      request.onload = function () {
        checking = false;
        var remaining = 0;
        try {
          remaining = JSON.parse(request.responseText).remaining || 0;
        } catch (error) {
          remaining = 0;
        }
        deadline = Date.now() + remaining * 1000;
        then(remaining);
      };
      request.onerror = function () {
        checking = false;
      };
      request.send();
    }

    function tick() {
      var remaining = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      if (display) {
        display.textContent = format(remaining);
      }
      if (bannerTime) {
        bannerTime.textContent = format(remaining);
      }
      if (remaining <= warning && !checkedNearEnd) {
        checkedNearEnd = true;
        synchronise(function (left) {
          if (left > warning) {
            checkedNearEnd = false;
          }
        });
      }
      if (banner) {
        banner.hidden = !(remaining <= warning && checkedNearEnd);
      }
      if (remaining <= 0) {
        synchronise(function (left) {
          if (left <= 0) {
            leave();
          } else {
            checkedNearEnd = left <= warning;
          }
        });
      }
    }

    if (stay) {
      stay.addEventListener("click", function () {
        var request = new XMLHttpRequest();
        request.open("POST", keepaliveUrl);
        request.setRequestHeader("X-CSRF-Token", csrfToken());
        // For an ended session the server returns the login page instead of JSON, so go there.
        request.onload = function () {
          var remaining = 0;
          try {
            remaining = JSON.parse(request.responseText).remaining || 0;
          } catch (error) {
            remaining = 0;
          }
          if (request.status === 200 && remaining > 0) {
            deadline = Date.now() + remaining * 1000;
            checkedNearEnd = false;
            tick();
          } else {
            leave();
          }
        };
        request.send();
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  // --- upload with progress -------------------------------------------------------------
  function enhanceUpload() {
    var form = document.getElementById("upload-form");
    if (!form || !window.FormData || !window.XMLHttpRequest || !window.DOMParser) {
      return;
    }
    var box = document.getElementById("upload-progress");
    var bar = document.getElementById("upload-progress-bar");
    var text = document.getElementById("upload-progress-text");
    var button = document.getElementById("upload-submit");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      box.hidden = false;
      button.disabled = true;
      request.upload.onprogress = function (progress) {
        if (progress.lengthComputable) {
          var percent = Math.round((progress.loaded / progress.total) * 100);
          bar.value = percent;
          text.textContent = form.getAttribute("data-text-sending").replace("{percent}", percent);
        }
      };
      request.upload.onload = function () {
        bar.removeAttribute("value");
        text.textContent = form.getAttribute("data-text-checking");
      };
      request.onload = function () {
        if (request.status >= 200 && request.status < 300) {
          window.location.assign(request.responseURL);
          return;
        }
        // The server returned the form with its error, so show that page's main part.
        var page = new DOMParser().parseFromString(request.responseText, "text/html");
        var main = page.getElementById("main");
        if (main) {
          document.getElementById("main").replaceWith(main);
          enhanceUpload();
        } else {
          text.textContent = form.getAttribute("data-text-failed");
          button.disabled = false;
        }
      };
      request.onerror = function () {
        text.textContent = form.getAttribute("data-text-failed");
        button.disabled = false;
      };
      request.send(new FormData(form));
    });
  }

  // --- review queue: select all ---------------------------------------------------------
  function enhanceSelectAll() {
    var all = document.getElementById("select-all");
    if (!all) {
      return;
    }
    all.hidden = false;
    all.addEventListener("change", function () {
      var boxes = document.querySelectorAll('input[name="records"]');
      for (var index = 0; index < boxes.length; index += 1) {
        boxes[index].checked = all.checked;
      }
    });
  }

  // --- a new API key: copy button -------------------------------------------------------
  function enhanceCopy() {
    var button = document.getElementById("copy-key");
    var key = document.getElementById("new-key");
    if (!button || !key || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(key.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-text-copied");
      });
    });
  }

  // --- account form: only the fields of the chosen level ---------------------------------
  function enhanceAccountForm() {
    var level = document.getElementById("account-level");
    if (!level) {
      return;
    }
    function update() {
      var groups = document.querySelectorAll("[data-levels]");
      for (var index = 0; index < groups.length; index += 1) {
        var levels = groups[index].getAttribute("data-levels").split(" ");
        groups[index].hidden = levels.indexOf(level.value) < 0;
      }
    }
    level.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    startIdleTimer();
    enhanceUpload();
    enhanceSelectAll();
    enhanceCopy();
    enhanceAccountForm();
  });
})();
