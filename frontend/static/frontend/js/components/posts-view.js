// The live blog demo's list of posts (DOM), drawn from a PostList (lib/blog-posts.js): items
// are kept and moved, not rebuilt, so a change flashes in place. Edit and Delete buttons, on the
// posts the user may change, call `onEdit(id)` and `onDelete(id)`.
import { canChange } from "../lib/blog-posts.js";

export class PostsView {
  constructor({ list, empty, count, template, onEdit, onDelete }) {
    Object.assign(this, { list, empty, count, template });
    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const id = Number(button.closest("li").dataset.postId);
      if (button.dataset.action === "edit") onEdit(id);
      else if (button.dataset.action === "delete") onDelete(id);
    });
  }

  render(posts, user) {
    const keep = new Set(posts.map((post) => String(post.id)));
    for (const item of [...this.list.children]) if (!keep.has(item.dataset.postId)) item.remove();
    posts.forEach((post, index) => {
      const item = this.item(post.id) || this.newItem(post.id);
      if (this.list.children[index] !== item) this.list.insertBefore(item, this.list.children[index] || null);
      item.dataset.status = post.status;
      item.querySelector(".post__title").textContent = post.title;
      const badge = item.querySelector(".badge");
      badge.textContent = post.status;
      badge.className = `badge badge--${post.status}`;
      const mine = user && post.author === user.id;
      item.querySelector(".post__meta").textContent = `#${post.id} by ${mine ? "you" : `user #${post.author}`}`;
      item.querySelector(".post__actions").hidden = !canChange(post, user);
    });
    this.empty.hidden = posts.length > 0;
    this.count.textContent = posts.length ? `(${posts.length})` : "";
  }

  flash(id) {
    const item = this.item(id);
    if (!item) return;
    item.classList.remove("flash");
    void item.offsetWidth; // restart the animation
    item.classList.add("flash");
  }

  item(id) {
    return this.list.querySelector(`li[data-post-id="${id}"]`);
  }

  newItem(id) {
    const item = this.template.content.firstElementChild.cloneNode(true);
    item.dataset.postId = String(id);
    return item;
  }
}
