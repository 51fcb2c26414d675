/* global document, window */
// The reference page of /api/docs: Swagger UI over this stack's own description. No
// validator badge (it would send the description to an outside service); "Try it out"
// sends requests to this stack.
window.addEventListener('load', () => {
  window.SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#reference',
    validatorUrl: null,
    deepLinking: true,
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    onComplete: () => document.body.setAttribute('data-rendered', 'true'),
  });
});
