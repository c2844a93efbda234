// Passkeys and security keys in the console. No framework, no inline script (CSP script-src 'self').
//
// Contract: a form
//   <form method="post" action="..." data-passkey="register|login" data-options='{"challenge":...}'>
//     <input type="hidden" name="csrf" value="...">        (whatever the server's CSRF field is)
//     <input type="hidden" name="request_id" value="...">  (optional: the server's ceremony id)
//     <input type="hidden" name="response">
//     <button type="button" data-passkey-start>...</button>
//     <p data-passkey-error hidden></p>
//   </form>
// data-options holds the options JSON (PublicKeyCredentialCreationOptions for "register",
// PublicKeyCredentialRequestOptions for "login"), as the server's Passkeys.Challenge.publicKeyJson gives it.
// If data-options is absent, data-options-url names a URL whose response body is that JSON (fetched with
// same-origin credentials). On click: the ceremony runs, JSON.stringify(credential) goes into "response",
// and the form is submitted. On failure the message is shown in [data-passkey-error] and nothing is sent.
(function () {
  'use strict';

  var MESSAGES = {
    NotAllowedError: '操作がキャンセルされたか、時間切れです / The operation was cancelled or timed out',
    InvalidStateError: 'この認証器はすでに登録されています / This authenticator is already registered',
    SecurityError: 'このページのアドレスではパスキーを使えません。管理者に連絡してください'
      + ' / Passkeys cannot be used at this page\'s address. Contact your administrator',
    AbortError: '操作が中断されました / The operation was aborted',
    unsupported: 'このブラウザはパスキーに対応していません。最新の Chrome か Edge を使ってください'
      + ' / This browser does not support passkeys. Use a current Chrome or Edge',
    options: 'パスキーの準備ができませんでした。ページを再読み込みしてください'
      + ' / Passkeys could not be prepared. Please reload the page',
    other: 'パスキーの操作に失敗しました。もう一度お試しください / The passkey operation failed. Please try again'
  };

  function supported() {
    return typeof window.PublicKeyCredential === 'function'
      && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function'
      && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function'
      && navigator.credentials && typeof navigator.credentials.create === 'function';
  }

  function showError(form, text) {
    var el = form.querySelector('[data-passkey-error]');
    if (el) {
      el.textContent = text;
      el.hidden = false;
    } else {
      window.alert(text);
    }
  }

  function clearError(form) {
    var el = form.querySelector('[data-passkey-error]');
    if (el) {
      el.textContent = '';
      el.hidden = true;
    }
  }

  function messageFor(err) {
    if (err && err.passkeyMessage) {
      return err.passkeyMessage;
    }
    return (err && MESSAGES[err.name]) || MESSAGES.other;
  }

  function optionsFor(form) {
    var inline = form.getAttribute('data-options');
    if (inline) {
      return Promise.resolve(JSON.parse(inline));
    }
    var url = form.getAttribute('data-options-url');
    if (!url) {
      return Promise.reject(Object.assign(new Error('no options'), { passkeyMessage: MESSAGES.options }));
    }
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) {
          throw Object.assign(new Error('options ' + r.status), { passkeyMessage: MESSAGES.options });
        }
        return r.json();
      });
  }

  /** Runs the ceremony for options JSON; resolves to JSON.stringify(credential). */
  function ceremony(kind, json) {
    var call;
    if (kind === 'register') {
      call = navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(json) });
    } else if (kind === 'login') {
      call = navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(json) });
    } else {
      return Promise.reject(new Error('unknown data-passkey: ' + kind));
    }
    return call.then(function (credential) {
      if (!credential) {
        throw Object.assign(new Error('no credential'), { name: 'NotAllowedError' });
      }
      return JSON.stringify(credential);
    });
  }

  function start(form, button) {
    clearError(form);
    if (!supported()) {
      showError(form, MESSAGES.unsupported);
      return;
    }
    var field = form.querySelector('input[name="response"]');
    if (!field) {
      showError(form, MESSAGES.options);
      return;
    }
    button.disabled = true;
    optionsFor(form)
      .then(function (json) {
        return ceremony(form.getAttribute('data-passkey'), json);
      })
      .then(function (responseJson) {
        field.value = responseJson;
        form.submit();
      })
      .catch(function (err) {
        button.disabled = false;
        showError(form, messageFor(err));
      });
  }

  function wire() {
    var forms = document.querySelectorAll('form[data-passkey]');
    Array.prototype.forEach.call(forms, function (form) {
      var buttons = form.querySelectorAll('[data-passkey-start]');
      Array.prototype.forEach.call(buttons, function (button) {
        button.addEventListener('click', function (ev) {
          ev.preventDefault();
          start(form, button);
        });
      });
      // Enter in a text field (e.g. the key's name) would post an empty response: run the ceremony instead.
      // form.submit() does not fire this event, so the final submission passes through.
      form.addEventListener('submit', function (ev) {
        var field = form.querySelector('input[name="response"]');
        if (!field || !field.value) {
          ev.preventDefault();
          if (buttons.length > 0 && !buttons[0].disabled) {
            start(form, buttons[0]);
          }
        }
      });
    });
  }

  window.MamoriPasskeys = { ceremony: ceremony, supported: supported };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', wire);
  } else {
    wire();
  }
})();
