// The cheap fingerprint of a file, as mam.services.fingerprints computes it for originals:
// "<size>:<SHA-256 of the first 4 MiB>:<SHA-256 of the last 4 MiB>" (WebCrypto). Sent when
// an upload is created, it lets the server refuse a file already in the library before its
// bytes go over the network. Resolves to null where WebCrypto is missing (plain http on
// another host than localhost): the server's full SHA-256 then finds the duplicate.
(function () {
  "use strict";
  const SAMPLE = 4 * 1024 * 1024;  // mam.services.fingerprints.SAMPLE

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function sha256(blob) {
    return blob.arrayBuffer().then((data) => crypto.subtle.digest("SHA-256", data)).then(hex);
  }

  window.mamFingerprint = function (file) {
    if (!window.crypto || !crypto.subtle || !file.size) return Promise.resolve(null);
    const head = file.slice(0, Math.min(file.size, SAMPLE));
    const tail = file.slice(Math.max(0, file.size - SAMPLE));
    return Promise.all([sha256(head), sha256(tail)])
      .then(([h, t]) => file.size + ":" + h + ":" + t)
      .catch(() => null);
  };
})();
