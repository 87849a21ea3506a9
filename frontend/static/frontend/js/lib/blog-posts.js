// The live blog demo's list of posts, without the DOM (tested under Node): the API's page at
// load, then the socket's events. A reload (after a reconnect, a sign-in or a sign-out) is the
// API's answer plus every event that arrived while it was on its way, in order; only the latest
// reload counts, so two that overlap cannot put back an older list.

// Whether the signed-in user may edit or delete the post (the server checks again).
export function canChange(post, user) {
  return Boolean(user && (user.is_staff || post.author === user.id));
}

// An event, in words, for the live log.
export function describePostEvent(frame) {
  const why = frame.reason ? `, ${frame.reason}` : "";
  return `#${frame.id} “${frame.title}” (${frame.status}${why})`;
}

export class PostList {
  constructor() {
    this.posts = new Map(); // id -> {id, title, status, author, ...}
    this.buffer = null; // events held while a reload is on its way
    this.latest = 0; // the latest reload's ticket
  }

  get size() {
    return this.posts.size;
  }

  get(id) {
    return this.posts.get(id);
  }

  // Newest first.
  ordered() {
    return [...this.posts.values()].sort((a, b) => b.id - a.id);
  }

  // A reload starts: events wait for its answer. Returns its ticket for finishReload().
  beginReload() {
    if (!this.buffer) this.buffer = [];
    this.latest += 1;
    return this.latest;
  }

  // The reload's answer (a page of the posts API, or null when it failed: the list stays), then
  // the events held meanwhile. An answer overtaken by a later reload changes nothing. Returns the
  // effects of the held events (see apply()).
  finishReload(ticket, page, user) {
    if (ticket !== this.latest) return [];
    if (page) {
      this.posts.clear();
      for (const post of page.results) this.posts.set(post.id, post);
    }
    const held = this.buffer || [];
    this.buffer = null;
    return held.map((frame) => this.apply(frame, user)).filter(Boolean);
  }

  // An event from /ws/blog/: applied now (its effect), or held during a reload (null).
  receive(frame, user) {
    if (this.buffer) {
      this.buffer.push(frame);
      return null;
    }
    return this.apply(frame, user);
  }

  // The effect: {id, change: "removed" | "changed"}, or null when nothing changed.
  apply(frame, user) {
    const { type, id, title, status, author } = frame;
    if (type === "post_deleted") {
      // Unpublishing withdraws the post from readers; its author gets the draft's post_updated next.
      if (frame.reason === "unpublished" && user && author === user.id) return null;
      return this.posts.delete(id) ? { id, change: "removed" } : null;
    }
    const known = this.posts.get(id) || { id };
    this.posts.set(id, { ...known, title, status, author });
    return { id, change: "changed" };
  }
}
