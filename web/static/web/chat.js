// The chat page: sends each message to the session stream and renders its events as they
// arrive. Events (Server-Sent Events over a fetch response): {"content": "..."} pieces of
// the answer, {"tool": {"id", "name", "status": "started" | "finished", "ok"}} while a
// bank tool runs, {"done": true, "finish_reason"} at the end, {"error", "code"} on failure.
// The request carries the staff login cookie and the CSRF token, never an API key.
"use strict";

(() => {
  const STREAM_URL = "/api/llm/chat/session/stream";
  const activity = JSON.parse(document.getElementById("tool-activity").textContent);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const transcript = document.getElementById("transcript");
  const composer = document.getElementById("composer");
  const messageBox = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const speakAs = document.getElementById("speak-as");
  const conversationLabel = document.getElementById("conversation-id");
  const newConversationButton = document.getElementById("new-conversation");
  let conversationId = "";
  let busy = false;

  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(9));
    return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function startConversation() {
    conversationId = randomId();
    conversationLabel.textContent = conversationId;
    transcript.replaceChildren();
    messageBox.focus();
  }

  function addTurn(role, text) {
    const turn = document.createElement("div");
    turn.className = "turn " + role;
    const who = document.createElement("p");
    who.className = "who";
    who.textContent = role === "user" ? "You" : "Assistant";
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    turn.append(who, body);
    transcript.append(turn);
    transcript.scrollTop = transcript.scrollHeight;
    return turn;
  }

  function showActivity(turn, tool) {
    const phrase = activity.tools[tool.name] || activity.default;
    let line = turn.querySelector(`.activity[data-tool-id="${CSS.escape(tool.id)}"]`);
    if (!line) {
      line = document.createElement("p");
      line.className = "activity";
      line.dataset.toolId = tool.id;
      line.dataset.tool = tool.name;
      turn.querySelector(".text").before(line);
    }
    line.dataset.state = tool.status === "started" ? "running" : tool.ok === false ? "failed" : "done";
    line.textContent = tool.status === "started" ? phrase + "…" : phrase + (tool.ok === false ? " — failed" : " — done");
  }

  function showError(turn, message) {
    const line = document.createElement("p");
    line.className = "error";
    line.setAttribute("role", "alert");
    line.textContent = message;
    turn.append(line);
  }

  // Yields the JSON of each "data:" event of a text/event-stream response body.
  async function* serverSentEvents(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        if (data && data !== "[DONE]") yield JSON.parse(data);
      }
    }
  }

  async function ask(question) {
    addTurn("user", question);
    const turn = addTurn("assistant", "");
    const text = turn.querySelector(".text");
    turn.dataset.state = "streaming";
    turn.setAttribute("aria-busy", "true");
    try {
      const body = { session_id: conversationId, message: question };
      if (speakAs.value) body.phone_number = speakAs.value;
      const response = await fetch(STREAM_URL, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        const reply = await response.json().catch(() => null);
        showError(turn, reply?.error?.message || `The server answered ${response.status}.`);
        return;
      }
      for await (const event of serverSentEvents(response.body)) {
        if (event.content !== undefined) {
          text.textContent += event.content;
          transcript.scrollTop = transcript.scrollHeight;
        } else if (event.tool) {
          showActivity(turn, event.tool);
        } else if (event.error) {
          showError(turn, event.error);
        }
      }
    } catch (error) {
      showError(turn, "The connection failed: " + error.message);
    } finally {
      turn.dataset.state = "done";
      turn.removeAttribute("aria-busy");
    }
  }

  composer.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const question = messageBox.value.trim();
    if (!question || busy) return;
    busy = true;
    sendButton.disabled = true;
    messageBox.value = "";
    try {
      await ask(question);
    } finally {
      busy = false;
      sendButton.disabled = false;
      messageBox.focus();
    }
  });
  messageBox.addEventListener("keydown", (key) => {
    if (key.key === "Enter" && !key.shiftKey) {
      key.preventDefault();
      composer.requestSubmit();
    }
  });
  newConversationButton.addEventListener("click", startConversation);
  // The caller's identity belongs to the conversation: another customer, another conversation.
  speakAs.addEventListener("change", startConversation);
  startConversation();
})();
