// Starts botfront's rasa-webchat in the page, talking socket.io to the Rasa server that served the page.
// The widget keeps the session id and the messages in localStorage, so a reload resumes the conversation.
(function start() {
  "use strict";
  window.WebChat.default({
    socketUrl: window.location.origin,
    socketPath: "/socket.io/",
    title: "Harbor Lane",
    subtitle: "Shopping assistant",
    initPayload: "/greet",
    inputTextFieldHint: "Ask for a product, your cart or an order…",
    embedded: true,
    withRules: false,
    showMessageDate: false,
    params: { storage: "local" },
    customMessageDelay: function () { return 300; },
  }, document.getElementById("chat"));
})();
