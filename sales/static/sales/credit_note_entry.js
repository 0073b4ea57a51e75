// "Devolver" / "Rebajar": the invoice's lines as the template; live totals from the API's preview.
(function () {
  "use strict";
  const form = document.getElementById("credit-form");
  const message = document.getElementById("message");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const kind = form.dataset.kind;
  let timer = null;
  let seq = 0;

  function rows() {
    return Array.from(document.querySelectorAll("#lines tr"));
  }

  function kept() {
    return rows().filter((row) => !row.querySelector("[data-field=remove]").checked);
  }

  function payload() {
    const data = { invoice: Number(form.dataset.invoice), kind, date: form.date.value,
                   reference: form.reference.value, observations: form.observations.value, lines: [] };
    if (form.delivery_date.value) data.delivery_date = form.delivery_date.value;
    if (form.exchange_rate && !form.exchange_rate.disabled && form.exchange_rate.value) data.exchange_rate = form.exchange_rate.value;
    for (const row of kept()) {
      const line = { invoice_position: Number(row.dataset.position) };
      const field = kind === "return" ? "quantity" : "unit_price";
      line[field] = row.querySelector(`[data-field=${field}]`).value;
      data.lines.push(line);
    }
    return data;
  }

  async function api(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
    });
    return { ok: response.ok, data: await response.json().catch(() => ({})) };
  }

  function show(text, cls) {
    message.textContent = text;
    message.className = cls;
  }

  function render(note) {
    const byPosition = new Map(note.lines.map((line) => [String(line.invoice_position), line]));
    for (const row of rows()) {
      const line = byPosition.get(row.dataset.position);
      row.querySelectorAll("[data-show]").forEach((cell) => { cell.textContent = line ? line[cell.dataset.show] : ""; });
    }
    document.querySelectorAll("[data-total]").forEach((cell) => { cell.textContent = note[cell.dataset.total]; });
  }

  async function preview() {
    const mine = ++seq;
    const { ok, data } = await api("/api/sales/credit-notes/preview/", payload());
    if (mine !== seq) return;
    if (ok) { render(data); show("", ""); } else { show(data.message || "No se pudo calcular.", "error"); }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const created = await api("/api/sales/credit-notes/", payload());
    if (!created.ok) { show(created.data.message || "No se pudo agregar.", "error"); return; }
    const body = { collections: [] };
    if (form.dataset.payment === "cash") {
      body.collections.push({ account: Number(form.withdrawal_account.value), amount: created.data.total,
                              method: form.withdrawal_method.value });
    }
    const posted = await api(`/api/sales/credit-notes/${created.data.id}/post/`, body);
    if (!posted.ok) { show(posted.data.message || "La devolución o rebaja quedó en borrador.", "error"); return; }
    show(`${posted.data.kind_display} ${posted.data.series}${posted.data.number} agregada por ${posted.data.total}.`, "ok");
    form.querySelector("#accept").disabled = true;
  });
  preview();
})();
