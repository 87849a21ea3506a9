// The live blog demo's post form (DOM): "Create post", or "Edit post #N" with the post filled in.
export class PostEditor {
  constructor({ form, title, submit, cancel }) {
    Object.assign(this, { form, title, submit, cancel });
    cancel.addEventListener("click", () => this.stop());
  }

  // The id of the post being edited, or null.
  get editing() {
    return this.form.elements.id.value ? Number(this.form.elements.id.value) : null;
  }

  start(post) {
    const { elements } = this.form;
    elements.id.value = post.id;
    elements.title.value = post.title;
    elements.body.value = post.body || "";
    elements.status.value = post.status;
    this.title.textContent = `Edit post #${post.id}`;
    this.submit.textContent = "Save changes";
    this.cancel.hidden = false;
    elements.title.focus();
  }

  stop() {
    this.form.reset();
    this.form.elements.id.value = "";
    this.title.textContent = "Create post";
    this.submit.textContent = "Publish";
    this.cancel.hidden = true;
  }
}
