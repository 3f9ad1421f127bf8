/** A realistic order of about 2 KB that satisfies bench/fixtures/orders.openapi.yaml. */
export function orderBody(targetBytes = 2048): string {
  const lines = Array.from({ length: 8 }, (_, i) => ({
    sku: `SKU-${String(1000 + i * 37).padStart(4, '0')}`,
    title: ['Espresso beans, 1 kg', "O'Reilly pocket guide", 'Stainless steel kettle', 'Oat milk 6-pack'][
      i % 4
    ],
    quantity: 1 + (i % 3),
    unitPrice: 499 + i * 250,
    ...(i % 3 === 0 ? { giftMessage: 'Happy birthday! Enjoy the coffee & see you on Friday.' } : {}),
  }));
  const address = (name: string) => ({
    name,
    street: '12 Rue de la Paix, 3rd floor',
    city: 'Paris',
    postalCode: '75002',
    country: 'FR',
  });
  const order = {
    customerId: '3f0c9a4e-8b1d-4c2e-9f6a-1d2e3f4a5b6c',
    email: 'jeanne.dupont@example.com',
    currency: 'EUR',
    coupon: 'WINTER-10',
    notes: '',
    lines,
    shipping: address('Jeanne Dupont'),
    billing: address("Jeanne D'Arcy-Dupont"),
  };
  const base = JSON.stringify(order).length;
  const filler =
    'Please leave the parcel with the concierge if nobody answers; the entrance code is on the door. ';
  order.notes = filler
    .repeat(Math.ceil(targetBytes / filler.length))
    .slice(0, Math.max(0, targetBytes - base));
  return JSON.stringify(order);
}

/** The same order with one property the schema does not declare (refused by strict validation). */
export function invalidOrderBody(): string {
  return JSON.stringify({ ...(JSON.parse(orderBody()) as object), isAdmin: true });
}

/** The same order with a SQL injection in a free-text field. */
export function injectionOrderBody(): string {
  const order = JSON.parse(orderBody()) as { notes: string };
  order.notes = "x' OR '1'='1' UNION SELECT password FROM users --";
  return JSON.stringify(order);
}
