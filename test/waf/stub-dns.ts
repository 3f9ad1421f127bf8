/** Host names the corpus uses, resolved without the network (reserved `.test` and example names). */
export const STUB_DNS: Readonly<Record<string, readonly string[]>> = {
  localhost: ['127.0.0.1', '::1'],
  'intranet-host.rebind.test': ['10.0.0.5'],
  'loopback-name.test': ['93.184.215.14', '127.0.0.1'],
  'private-name.test': ['192.168.1.10'],
  'mapped-name.test': ['::ffff:127.0.0.1'],
  'mapped-public.test': ['2606:4700::1111'],
  'example.com': ['93.184.215.14'],
  'api.github.com': ['140.82.112.6'],
  'www.wikipedia.org': ['185.15.59.224'],
  'cdn.example.net': ['93.184.215.15'],
  'hooks.example.org': ['93.184.215.16'],
  'sub.domain.example.co.uk': ['93.184.215.17'],
};
