// Register and log in. A successful registration logs straight in with the same password.
import * as api from "./api.js";
import * as session from "./session.js";
import { $, busy, say } from "./dom.js";

export function init(onLoggedIn) {
  const loginForm = $("#login-form");
  const registerForm = $("#register-form");

  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const userName = loginForm.user_name.value.trim();
    const password = loginForm.password.value;
    await busy(loginForm.querySelector("button"), "#login-msg", async () => {
      await logIn(userName, password);
      loginForm.reset();
      onLoggedIn();
    });
  });

  registerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const userName = registerForm.user_name.value.trim();
    const password = registerForm.password.value;
    const name = registerForm.name.value.trim();
    await busy(registerForm.querySelector("button"), "#register-msg", async () => {
      await api.register(userName, password, name);
      await logIn(userName, password);
      registerForm.reset();
      onLoggedIn();
    });
  });
}

async function logIn(userName, password) {
  const data = await api.login(userName, password);
  if (!data || typeof data.token !== "string") throw new Error("login answered without a token");
  session.start(data.token, userName);
}

export function showExpired(message) {
  say("#login-msg", `Please log in again: ${message}`, "error");
}
