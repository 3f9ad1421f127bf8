/** A small OpenAPI document with scopes, a body, and a privileged operation. */
export const SPEC = `
openapi: 3.0.3
info: { title: bank, version: '1' }
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://auth.example/token
          scopes: { 'accounts:read': read, 'orders:read': read, 'profiles:write': write, admin: admin }
security: [{ oauth: ['accounts:read'] }]
paths:
  /accounts/{accountId}:
    parameters: [{ name: accountId, in: path, required: true, schema: { type: string } }]
    get:
      operationId: getAccount
      responses: { '200': { description: ok } }
  /orders:
    get:
      operationId: listOrders
      security: [{ oauth: ['orders:read'] }, { oauth: ['admin'] }]
      parameters: [{ name: tenantId, in: query, schema: { type: string } }]
      responses: { '200': { description: ok } }
  /profiles/{id}:
    put:
      operationId: updateProfile
      security: [{ oauth: ['profiles:write'] }]
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      requestBody:
        content:
          application/json:
            schema: { type: object, properties: { ownerId: { type: string }, name: { type: string } } }
      responses: { '200': { description: ok } }
  /users/{id}:
    parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
    get:
      operationId: getUser
      security: []
      responses: { '200': { description: ok } }
    delete:
      operationId: deleteUser
      security: []
      x-portcullis-privileged: true
      responses: { '204': { description: gone } }
`;
