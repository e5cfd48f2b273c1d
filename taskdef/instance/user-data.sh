#!/bin/bash
# User data for an ECS container instance (Amazon Linux 2023 ECS-optimized AMI) in a private
# subnet: join the cluster, and run vpcprobe once before the ECS agent starts, with its report on
# the serial console (aws ec2 get-console-output) and in the journal.
#
# It downloads nothing from the internet: the binary comes from your own S3 bucket through the
# subnet's S3 gateway endpoint (the AMI has the AWS CLI), or is already in the AMI at
# /usr/local/bin/vpcprobe. Set the three values below; the instance role needs s3:GetObject on
# the binary's object besides AmazonEC2ContainerServiceforEC2Role.
set -uo pipefail

CLUSTER="my-cluster"                              # the cluster the instance joins
VPCPROBE_S3_URI="s3://BUCKET/vpcprobe-amd64"      # vpcprobe-arm64 on Graviton
VPCPROBE=/usr/local/bin/vpcprobe

say() { echo "vpcprobe-preflight: $*" | tee /dev/console; }

echo "ECS_CLUSTER=${CLUSTER}" >> /etc/ecs/ecs.config

# The region, for the S3 call, from instance metadata (IMDSv2).
token=$(curl -sf -m 5 -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
region=$(curl -sf -m 5 -H "X-aws-ec2-metadata-token: ${token}" http://169.254.169.254/latest/meta-data/placement/region)

if [ ! -x "${VPCPROBE}" ]; then
  # The bucket must be in the instance's region: a gateway endpoint reaches only that region's S3.
  if aws s3 cp "${VPCPROBE_S3_URI}" "${VPCPROBE}.download" --region "${region}" --only-show-errors --cli-connect-timeout 10 --cli-read-timeout 30; then
    install -m 0755 "${VPCPROBE}.download" "${VPCPROBE}" && rm -f "${VPCPROBE}.download"
  else
    say "cannot download ${VPCPROBE_S3_URI}: this subnet has no path to S3 in ${region} (no S3 gateway endpoint on its route table, and no NAT), or the instance role may not read it. The ECS agent will not be able to pull image layers either."
  fi
fi

# The unit: the same text as taskdef/instance/vpcprobe-preflight.service.
cat > /etc/systemd/system/vpcprobe-preflight.service <<'UNIT'
# vpcprobe preflight on an ECS container instance: before the ECS agent starts, probe every path
# the agent needs (ecs, the hosts ecs:DiscoverPollEndpoint names, ECR, S3, logs) and write the
# report to the journal and to the serial console, which `aws ec2 get-console-output` reads even
# when the instance has no network path at all. Wanted by ecs.service, never required: the agent
# starts whatever the verdict, and `systemctl status vpcprobe-preflight` shows it.
[Unit]
Description=vpcprobe preflight: can this instance reach what the ECS agent needs
Documentation=https://github.com/vpcprobe/vpcprobe/blob/main/taskdef/instance/README.md
Wants=network-online.target
After=network-online.target
Before=ecs.service
ConditionPathExists=/usr/local/bin/vpcprobe

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/vpcprobe --services ec2-instance --output text --timeout 5s --deadline 60s
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=90

[Install]
WantedBy=ecs.service
UNIT

systemctl daemon-reload
systemctl enable vpcprobe-preflight.service
# User data runs before ecs.service starts on the ECS-optimized AMI, so this run comes first; on
# later boots ecs.service pulls the unit in (WantedBy) and waits for it (Before).
systemctl start vpcprobe-preflight.service || say "found problems: see the report above, or journalctl -u vpcprobe-preflight"
