// What the Worker answers for a user's stored preferences (null: none stored yet).
export function describe(prefs, fallback) {
    return `theme ${prefs?.theme ?? fallback}`;
}
