#!/usr/bin/env bash
# Create a two-AZ VPC: 2 public + 2 private subnets, IGW, one NAT gateway per AZ,
# route tables, and S3/DynamoDB gateway endpoints. Prints the created IDs.
# Usage: create-vpc.sh <name> <region> [cidr-prefix=10.0]
# Works with bash 3.2 (macOS) and newer; needs the AWS CLI.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
name="${1:?name required (see --help)}"; region="${2:?region required (see --help)}"; p="${3:-10.0}"
export AWS_DEFAULT_REGION="$region"

tag() { echo "ResourceType=$1,Tags=[{Key=Name,Value=$name-$2}]"; }

# The first two available AZs (standard zones only, not Local/Wavelength zones). `read -a` instead
# of mapfile, which bash 3.2 lacks.
# shellcheck disable=SC2016  # the backticks are a JMESPath literal, not a command substitution
az_query='AvailabilityZones[?ZoneType==`availability-zone`].ZoneName'
az_list="$(aws ec2 describe-availability-zones --filters Name=state,Values=available \
  --query "$az_query" --output text)"
read -r -a azs <<<"$az_list"
[ "${#azs[@]}" -ge 2 ] || { echo "need two availability zones in $region" >&2; exit 1; }
azs=("${azs[0]}" "${azs[1]}")

vpc=$(aws ec2 create-vpc --cidr-block "$p.0.0/16" --tag-specifications "$(tag vpc vpc)" --query Vpc.VpcId --output text)
aws ec2 wait vpc-available --vpc-ids "$vpc"
aws ec2 modify-vpc-attribute --vpc-id "$vpc" --enable-dns-hostnames '{"Value":true}'

igw=$(aws ec2 create-internet-gateway --tag-specifications "$(tag internet-gateway igw)" --query InternetGateway.InternetGatewayId --output text)
aws ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
pub_rt=$(aws ec2 create-route-table --vpc-id "$vpc" --tag-specifications "$(tag route-table public)" --query RouteTable.RouteTableId --output text)
aws ec2 create-route --route-table-id "$pub_rt" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" >/dev/null

pub_cidrs=("$p.0.0/20" "$p.16.0/20"); priv_cidrs=("$p.128.0/20" "$p.144.0/20")
priv_rts=()   # expanded as ${a[@]+"${a[@]}"}: bash < 4.4 calls an empty "${a[@]}" unbound
for i in 0 1; do
  az="${azs[$i]}"; suffix="${az: -1}"
  pub=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block "${pub_cidrs[$i]}" --availability-zone "$az" \
    --tag-specifications "$(tag subnet "public-$suffix")" --query Subnet.SubnetId --output text)
  priv=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block "${priv_cidrs[$i]}" --availability-zone "$az" \
    --tag-specifications "$(tag subnet "private-$suffix")" --query Subnet.SubnetId --output text)
  aws ec2 associate-route-table --route-table-id "$pub_rt" --subnet-id "$pub" >/dev/null

  eip=$(aws ec2 allocate-address --domain vpc --query AllocationId --output text)
  nat=$(aws ec2 create-nat-gateway --subnet-id "$pub" --allocation-id "$eip" \
    --tag-specifications "$(tag natgateway "nat-$suffix")" --query NatGateway.NatGatewayId --output text)
  aws ec2 wait nat-gateway-available --nat-gateway-ids "$nat"

  rt=$(aws ec2 create-route-table --vpc-id "$vpc" --tag-specifications "$(tag route-table "private-$suffix")" --query RouteTable.RouteTableId --output text)
  aws ec2 create-route --route-table-id "$rt" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "$nat" >/dev/null
  aws ec2 associate-route-table --route-table-id "$rt" --subnet-id "$priv" >/dev/null
  priv_rts+=("$rt")
  echo "AZ $az: public=$pub private=$priv nat=$nat private-rt=$rt"
done

for svc in s3 dynamodb; do
  aws ec2 create-vpc-endpoint --vpc-id "$vpc" --vpc-endpoint-type Gateway \
    --service-name "com.amazonaws.$region.$svc" --route-table-ids ${priv_rts[@]+"${priv_rts[@]}"} \
    --query VpcEndpoint.VpcEndpointId --output text
done
echo "VPC=$vpc IGW=$igw PUBLIC_RT=$pub_rt"
