// The logged-in user, kept in sessionStorage: it lives as long as the tab and is never shared
// with other tabs, so two users can be logged in side by side in two tabs.
const TOKEN = "daytrade.token";
const USER = "daytrade.user";

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function userName() {
  return sessionStorage.getItem(USER);
}

export function isLoggedIn() {
  return Boolean(token());
}

export function start(newToken, name) {
  sessionStorage.setItem(TOKEN, newToken);
  sessionStorage.setItem(USER, name);
}

export function end() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(USER);
}
