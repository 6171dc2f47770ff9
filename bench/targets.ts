export async function runTargetsBench(): Promise<void> {
  console.log("(no targets benchmark yet)");
}
