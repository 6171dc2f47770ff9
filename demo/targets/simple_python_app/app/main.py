from opencode.provider import PROVIDERS


def main() -> None:
    print("available providers:", ", ".join(sorted(PROVIDERS)))


if __name__ == "__main__":
    main()
