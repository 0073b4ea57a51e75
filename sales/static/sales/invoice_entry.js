// Invoice entry: keyboard-first, live totals from the API's preview (the server calculates).
(function () {
  "use strict";
  const form = document.getElementById("invoice-form");
  const linesBody = document.getElementById("lines");
  const template = document.getElementById("line-template");
  const message = document.getElementById("message");
  const info = document.getElementById("customer-info");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const entity = Number(form.dataset.entity);
  let previewTimer = null;
  let previewSeq = 0;
  let lastCustomer = form.customer.value;

  function addLine() {
    linesBody.appendChild(template.content.cloneNode(true));
    return linesBody.lastElementChild;
  }

  function lineInputs() {
    return Array.from(linesBody.querySelectorAll("tr")).map((row) => {
      const get = (name) => row.querySelector(`[data-field=${name}]`).value.trim();
      return { row, quantity: get("quantity"), product: get("product"), unit_price: get("unit_price"),
               discount_rate: get("discount_rate"), iva_rate: get("iva_rate") };
    }).filter((line) => line.product && line.quantity);
  }

  function payload(lines) {
    const data = { entity, customer: Number(form.customer.value || 0), date: form.date.value,
                   payment: form.payment.value, currency: form.currency.value, reference: form.reference.value,
                   observations: form.observations.value, lines: [] };
    if (form.delivery_date.value) data.delivery_date = form.delivery_date.value;
    if (form.exchange_rate.value) data.exchange_rate = form.exchange_rate.value;
    if (form.salesperson.value !== "") data.salesperson = Number(form.salesperson.value);
    if (form.number && form.number.value) data.number = Number(form.number.value);
    if (form.substitutes && form.substitutes.value) data.substitutes = Number(form.substitutes.value);
    for (const line of lines || lineInputs()) {
      const item = { product: line.product, quantity: line.quantity };
      for (const key of ["unit_price", "discount_rate", "iva_rate"]) if (line[key] !== "") item[key] = line[key];
      data.lines.push(item);
    }
    return data;
  }

  async function api(url, body, extraHeaders, method) {
    const response = await fetch(url, {
      method: method || "POST", credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json", "X-CSRFToken": csrf }, extraHeaders || {}),
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, data };
  }

  function show(text, kind) {
    message.textContent = text;
    message.className = kind;
  }

  // Errors beside what caused them. The API answers {code, message, details}: a refused action
  // names its header input in details.field, or its line in details.line (1 = the first line
  // sent) with the line's input in details.field; bad input comes as DRF's lists per field
  // ({customer: [...], lines: [{}, {quantity: [...]}]}). The block at the bottom keeps a summary.
  let lastCodes = [];  // each sent line's product code, as the last preview resolved it
  let errorCount = 0;

  function clearErrors() {
    for (const note of form.querySelectorAll(".field-error")) note.remove();
    for (const input of form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    for (const row of linesBody.querySelectorAll("tr.has-error")) row.classList.remove("has-error");
  }

  function note(container, input, text) {
    const small = document.createElement("small");
    small.className = "field-error";
    small.id = `field-error-${++errorCount}`;
    small.textContent = text;
    container.appendChild(small);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", small.id);
    }
    return input;
  }

  const LABELS = { collections: "Cobro", lines: "Partidas", non_field_errors: "" };

  function headerError(name, text) {
    // Returns the input to focus (or null); false when the field is not on this screen.
    if (name === "collections") {
      const fieldset = document.getElementById("collection");
      return note(fieldset.querySelector(".collection-errors"), form.collection_account, text) || null;
    }
    if (name === "lines") { note(document.getElementById("lines-errors"), null, text); return null; }
    const input = form.elements.namedItem(name);
    if (!input || !input.closest || !input.closest("label")) return false;
    return note(input.closest("label"), input, text);
  }

  function lineError(row, field, text) {
    if (!row) return null;
    row.classList.add("has-error");
    const input = (field && row.querySelector(`[data-field=${field}]`)) || row.querySelector("[data-field=product]");
    return note(row.querySelector(".line-errors"), input, text);
  }

  function labelOf(name) {
    if (name in LABELS) return LABELS[name];
    const input = form.elements.namedItem(name);
    const label = input && input.closest && input.closest("label");
    return label ? label.firstChild.textContent.trim() : name;
  }

  const texts = (value) => (Array.isArray(value) ? value : [value]).filter((v) => typeof v === "string");

  function showErrors(data, rows, fallback, { focus = false } = {}) {
    clearErrors();
    const details = data.details || {};
    const summary = [];
    const focusable = [];
    const placed = (input) => { if (input) focusable.push(input); };
    if (data.code === "validacion") {  // bad input: DRF's lists, per field and per line
      for (const [name, value] of Object.entries(details)) {
        if (name === "lines" && Array.isArray(value) && value.some((v) => v && typeof v === "object")) {
          value.forEach((errors, i) => {
            for (const [field, messages] of Object.entries(errors || {})) {
              for (const text of texts(messages)) {
                placed(lineError(rows[i], field, text));
                summary.push(`Partida ${i + 1}: ${text}`);
              }
            }
          });
          continue;
        }
        for (const text of texts(value)) {
          placed(headerError(name, text) || null);
          const label = labelOf(name);
          summary.push(label ? `${label}: ${text}` : text);
        }
      }
    } else if (data.message) {  // a refused action: one message, pointing at its field or line(s)
      const positions = details.lines || (details.line ? [details.line] : []);
      const codes = [details.product].concat(details.codes || []).filter(Boolean);
      const lineRows = new Set(positions.map((p) => rows[p - 1]).filter(Boolean));
      rows.forEach((row, i) => {
        const typed = row.querySelector("[data-field=product]").value.trim();
        if (codes.includes(typed) || codes.includes(lastCodes[i])) lineRows.add(row);
      });
      if (lineRows.size) {
        for (const row of lineRows) placed(lineError(row, details.field, data.message));
      } else if (details.field) {
        placed(headerError(details.field, data.message) || null);
      }
      summary.push(data.message);
    }
    show(summary.join(" · ") || data.message || fallback, "error");
    if (focus && focusable.length) focusable[0].focus();
  }

  function render(doc, rows) {
    lastCodes = doc.lines.map((line) => line.code);
    doc.lines.forEach((line, i) => {
      const row = rows[i];
      if (!row) return;
      for (const cell of row.querySelectorAll("[data-show]")) cell.textContent = line[cell.dataset.show] ?? "";
    });
    for (const cell of document.querySelectorAll("[data-total]")) cell.textContent = doc[cell.dataset.total];
    showChange();
    info.textContent = `${doc.customer_rfc} — ${doc.customer_name}. ${doc.customer_address} ${doc.customer_colonia} ` +
      `${doc.customer_poblacion} C.P. ${doc.customer_postal_code} ${doc.customer_phones}`.replace(/\s+/g, " ");
  }

  async function preview() {
    const seq = ++previewSeq;
    const lines = lineInputs();
    const rows = lines.map((line) => line.row);
    const body = payload(lines);
    if (!body.lines.length) return;
    const { ok, data } = await api("/api/sales/invoices/preview/", body);
    if (seq !== previewSeq) return; // a newer preview is on its way
    if (ok) { render(data, rows); clearErrors(); show("", ""); } else { showErrors(data, rows, "No se pudo calcular."); }
  }

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 250);
  }

  function showCollection() {
    document.getElementById("collection").hidden = form.payment.value !== "cash";
  }

  // Contado: collected into one account, or several (each with its amount; the first account
  // takes what the others leave). The server checks that they add up to the total.
  const cents = (value) => Math.round(parseFloat(value || "0") * 100);
  const money = (value) => (value / 100).toFixed(2);

  function collections(total) {
    if (form.payment.value !== "cash") return [];
    const extra = Array.from(document.querySelectorAll("#more-collections .extra-collection")).map((row) => {
      const get = (name) => row.querySelector(`[data-c=${name}]`).value;
      return { account: Number(get("account")), amount: money(cents(get("amount"))), method: get("method"),
               check_number: get("check_number"), counterparty_bank: get("counterparty_bank"),
               counterparty_account: get("counterparty_account") };
    }).filter((c) => cents(c.amount) > 0);
    const rest = cents(total) - extra.reduce((sum, c) => sum + cents(c.amount), 0);
    const first = form.collection_amount.value ? money(cents(form.collection_amount.value)) : money(rest);
    return [{ account: Number(form.collection_account.value), amount: first, method: form.collection_method.value,
              check_number: form.check_number.value, counterparty_bank: form.counterparty_bank.value,
              counterparty_account: form.counterparty_account.value }, ...extra];
  }

  function showChange() {
    // Change is due on the cash handed over for what the first account (the cash box) collects.
    const total = document.querySelector("[data-total=total]").textContent;
    const due = form.payment.value === "cash" ? cents(collections(total)[0].amount) : 0;
    const received = cents(form.received.value);
    document.getElementById("change").textContent = received ? money(Math.max(received - due, 0)) : "0.00";
  }

  document.getElementById("add-collection").addEventListener("click", () => {
    const template = document.getElementById("collection-template");
    document.getElementById("more-collections").appendChild(template.content.cloneNode(true));
    document.querySelector("#more-collections .extra-collection:last-child select").focus();
  });
  form.addEventListener("input", showChange);

  form.payment.addEventListener("change", showCollection);
  form.addEventListener("input", schedulePreview);
  form.customer.addEventListener("change", () => {
    // The seed: choosing another customer after entering lines removes them.
    if (form.customer.value !== lastCustomer && lineInputs().length) {
      linesBody.innerHTML = "";
      addLine();
      for (const cell of document.querySelectorAll("[data-total]")) cell.textContent = "0.00";
      show("Se cambió el cliente: las partidas se eliminaron.", "info");
    }
    lastCustomer = form.customer.value;
  });

  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target.tagName === "TEXTAREA") return;
    event.preventDefault();
    if (event.ctrlKey) { form.requestSubmit(); return; }
    const fields = Array.from(form.querySelectorAll("input:not([disabled]):not([type=hidden]), select"));
    const index = fields.indexOf(event.target);
    const isLastOfLastLine = event.target.closest("tr") === linesBody.lastElementChild &&
      event.target.dataset.field === "iva_rate";
    if (isLastOfLastLine) { addLine().querySelector("input").focus(); return; }
    if (index >= 0 && index + 1 < fields.length) fields[index + 1].focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // A preview still on its way must not overwrite (clear) what the accept answers.
    clearTimeout(previewTimer);
    previewSeq++;
    const accept = document.getElementById("accept");
    accept.disabled = true;
    try {
      const key = { "Idempotency-Key": form.dataset.idempotencyKey };
      const lines = lineInputs();
      const rows = lines.map((line) => line.row);
      const created = draft
        ? await api(`/api/sales/invoices/${draft.id}/`, payload(lines), {}, "PUT")
        : await api("/api/sales/invoices/", payload(lines), key);
      if (!created.ok) { showErrors(created.data, rows, "No se pudo agregar la factura.", { focus: true }); return; }
      const posted = await api(`/api/sales/invoices/${created.data.id}/post/`,
                               { collections: collections(created.data.total) });
      if (!posted.ok) {
        showErrors(posted.data, rows, "La factura quedó en borrador.", { focus: true });
        // The draft exists now: correcting it again updates it instead of creating another one.
        if (!draft) draft = { id: created.data.id };
        return;
      }
      show(`Factura ${posted.data.series}${posted.data.number} agregada por ${posted.data.total}.`, "ok");
      window.location.assign(`${form.dataset.listUrl}?tab=todas&period=hoy`);
    } finally {
      accept.disabled = false;
    }
  });

  // A draft being corrected: its fields and lines, as typed when it was created.
  const draftData = document.getElementById("draft-data");
  let draft = draftData ? JSON.parse(draftData.textContent) : null;
  if (draft) {
    for (const name of ["customer", "date", "delivery_date", "payment", "currency", "exchange_rate", "reference",
                        "salesperson", "observations", "substitutes"]) {
      if (form[name] && draft[name] !== undefined) form[name].value = draft[name];
    }
    lastCustomer = form.customer.value;
    for (const line of draft.lines) {
      const row = addLine();
      for (const key of ["quantity", "product", "unit_price", "discount_rate", "iva_rate"]) {
        row.querySelector(`[data-field=${key}]`).value = line[key];
      }
    }
    document.getElementById("discard").addEventListener("click", async () => {
      if (!window.confirm("¿Descartar este borrador? Se borra y no se puede recuperar.")) return;
      const discarded = await fetch(`/api/sales/invoices/${draft.id}/discard/`, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf } });
      if (discarded.ok) { window.location.assign(`${form.dataset.listUrl}?tab=borradores&period=hoy`); return; }
      const data = await discarded.json().catch(() => ({}));
      show(data.message || "No se pudo descartar el borrador.", "error");
    });
  }
  addLine();
  showCollection();
  if (draft) preview();
})();
