/**
 * Base AMIs for distributions installed by user data on a general-purpose Linux (K3s, RKE2): the
 * public SSM parameters AWS publishes for vendor images, resolved into the lock by `--refresh-ssm`
 * (so synth stays offline and a new image is a reviewed change of the lock, not a silent one).
 *
 * - Ubuntu Server 24.04 LTS (Canonical): `/aws/service/canonical/ubuntu/server/24.04/stable/current/<arch>/hvm/ebs-gp3/ami-id`
 *   (Canonical, "Find Ubuntu images on AWS": the Parameter Store path scheme). The boot scripts use
 *   cloud-init and snap (`snap install aws-cli`), which this image has.
 * - GPU nodes: the AWS Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04), NVIDIA driver and
 *   nvidia-container-toolkit installed, which the K3s/RKE2 boot scripts require
 *   (`/aws/service/deeplearning/ami/<x86_64|arm64>/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id`;
 *   AWS DLAMI developer guide, "Finding the ID of a DLAMI": `/aws/service/deeplearning/ami/$architecture/$ami_type/latest/ami-id`).
 */
import type { NodeClass } from '../../../model/types.js';
import type { ImageFacts } from './types.js';

const DLAMI_ARCH = { amd64: 'x86_64', arm64: 'arm64' } as const;

export function ubuntuImage(cls: NodeClass, product: string): ImageFacts {
  if (cls.gpu === 'nvidia')
    return {
      rootDevice: '/dev/sda1',
      parameter: `/aws/service/deeplearning/ami/${DLAMI_ARCH[cls.arch]}/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id`,
      description: `AWS Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04, ${cls.arch}): NVIDIA driver and container toolkit for ${product}`,
    };
  return { rootDevice: '/dev/sda1', parameter: `/aws/service/canonical/ubuntu/server/24.04/stable/current/${cls.arch}/hvm/ebs-gp3/ami-id`, description: `Ubuntu Server 24.04 LTS (Canonical, ${cls.arch}) for ${product}` };
}
