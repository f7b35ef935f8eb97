// Uploads /upload-config.json's content to the node with tus-js-client, in small chunks (several
// PATCHes), and writes the outcome into #result for the test to read from the DOM.
(async function () {
  const result = document.getElementById('result');
  try {
    const config = await (await fetch('/upload-config.json')).json();
    const file = new Blob([config.content], { type: 'text/csv' });
    const upload = new tus.Upload(file, {
      endpoint: config.endpoint,
      headers: { Authorization: 'Bearer ' + config.key },
      metadata: { filename: 'browser.csv', category: 'browser', contentType: 'text/csv' },
      chunkSize: config.chunkSize,
      retryDelays: [0, 500, 1000],
      storeFingerprintForResuming: false,
      onError: function (error) {
        result.textContent = 'error ' + error;
      },
      onSuccess: function (payload) {
        const response = payload && payload.lastResponse;
        const fileId = response ? response.getHeader('Mysimbdp-File-Id') : null;
        const offset = response ? response.getHeader('Upload-Offset') : null;
        result.textContent = 'done fileId=' + fileId + ' offset=' + offset + ' url=' + upload.url;
      },
    });
    upload.start();
  } catch (e) {
    result.textContent = 'error ' + e;
  }
})();
