// The "← Servers" link at the top of a server's page.

import { IconBack } from '../../components/icons';
import { href } from '../../router';

export function BackLink() {
  return (
    <a class="back-link" href={href.servers()}>
      <IconBack size={14} /> Servers
    </a>
  );
}
